"""The data contract: Avro schemas of every category, the catalog, serde, topic names."""
