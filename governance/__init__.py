"""Who may see what: entrustments, agreements, consents, and the pure fan-out decision."""
