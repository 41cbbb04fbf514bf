// The catalog page's search: inlined into index.html, plain JS, no network.
// The state lives in the address (#q=<text>&bank=<id>&entrusted=1, or ?q=...), so a link
// shares a search; #<category id> opens that category.
(function () {
  "use strict";
  var query = document.getElementById("q");
  var bank = document.getElementById("bank");
  var entrusted = document.getElementById("entrusted");
  var shown = document.getElementById("shown");
  var overview = document.getElementById("overview");
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.agency"));
  var total = 0;
  var entries = sections.map(function (section) {
    var cats = Array.prototype.slice.call(section.querySelectorAll("details.cat"));
    total += cats.length;
    return {
      section: section,
      count: section.querySelector("h2 .count"),
      all: section.getAttribute("data-count"),
      cats: cats.map(function (el) {
        return {
          el: el,
          text: el.getAttribute("data-search"),
          banks: (el.getAttribute("data-banks") || "").split(" "),
          entrusted: el.getAttribute("data-entrusted") === "1",
        };
      }),
    };
  });

  function terms() {
    return query.value.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function matches(cat, words) {
    if (bank.value && cat.banks.indexOf(bank.value) < 0) return false;
    if (entrusted.checked && !cat.entrusted) return false;
    for (var i = 0; i < words.length; i++) {
      if (cat.text.indexOf(words[i]) < 0) return false;
    }
    return true;
  }

  function apply() {
    var words = terms();
    var filtering = words.length > 0 || bank.value !== "" || entrusted.checked;
    var hits = [];
    entries.forEach(function (entry) {
      var here = 0;
      entry.cats.forEach(function (cat) {
        var hit = matches(cat, words);
        cat.el.hidden = !hit;
        if (hit) {
          here += 1;
          hits.push(cat.el);
        }
      });
      entry.section.hidden = here === 0;
      entry.count.textContent = filtering
        ? here + " of " + entry.all + " categories"
        : entry.all + " categories";
    });
    // A search narrowed to a few categories shows them open: no second click to read them.
    if (words.length > 0 && hits.length <= 3) {
      hits.forEach(function (el) { el.open = true; });
    }
    // While filtering, the results come first, right under the search box.
    overview.hidden = filtering;
    shown.textContent = filtering
      ? hits.length + " of " + total + " categories"
      : total + " categories";
    return hits.length;
  }

  function fromAddress() {
    var hash = location.hash.replace(/^#/, "");
    if (hash && hash.indexOf("=") < 0) {
      var id = hash;
      try {
        id = decodeURIComponent(hash);
      } catch (malformed) {
        // A mistyped escape (`#50%`) is taken as written: an id that matches nothing.
      }
      var target = document.getElementById(id);
      if (target && target.tagName === "DETAILS") {
        target.open = true;
        target.scrollIntoView();
      }
      return;
    }
    var params = new URLSearchParams(hash || location.search.replace(/^\?/, ""));
    query.value = params.get("q") || "";
    bank.value = params.get("bank") || "";
    entrusted.checked = params.get("entrusted") === "1";
  }

  function toAddress() {
    var params = new URLSearchParams();
    if (query.value) params.set("q", query.value);
    if (bank.value) params.set("bank", bank.value);
    if (entrusted.checked) params.set("entrusted", "1");
    var text = params.toString();
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
  }

  function changed() {
    apply();
    toAddress();
  }

  query.addEventListener("input", changed);
  bank.addEventListener("change", changed);
  entrusted.addEventListener("change", changed);
  window.addEventListener("hashchange", function () {
    fromAddress();
    apply();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-bank]"), function (button) {
    button.addEventListener("click", function () {
      bank.value = button.getAttribute("data-bank");
      changed();
      document.getElementById("categories").scrollIntoView();
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== query) {
      event.preventDefault();
      query.focus();
    }
  });

  fromAddress();
  var count = apply();
  // A marker for whoever checks that the page's script ran to its end (the tests do).
  var ready = document.createElement("div");
  ready.id = "catalog-ready";
  ready.hidden = true;
  ready.setAttribute("data-shown", String(count));
  document.body.appendChild(ready);
})();
