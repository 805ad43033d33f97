/* Dashboard: switch between Dutch and English in place. No dependencies, nothing fetched.
   Every translatable element carries data-nl / data-en (and data-nl-title / data-en-title
   for tooltips). Without this script the toggle is a plain link to ?lang=en. */
(function () {
  "use strict";
  var KEY = "buddy-dashboard-lang";
  var root = document.documentElement;

  function store(lang) {
    try { window.localStorage.setItem(KEY, lang); } catch (e) { /* private mode: fine */ }
  }

  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function apply(lang) {
    var i, el, value, nodes;
    nodes = document.querySelectorAll("[data-nl]");
    for (i = 0; i < nodes.length; i++) {
      el = nodes[i];
      value = el.getAttribute("data-" + lang);
      if (value !== null && el.textContent !== value) { el.textContent = value; }
    }
    nodes = document.querySelectorAll("[data-nl-title]");
    for (i = 0; i < nodes.length; i++) {
      el = nodes[i];
      value = el.getAttribute("data-" + lang + "-title");
      if (value !== null) { el.setAttribute("title", value); }
    }
    nodes = document.querySelectorAll("[data-lang-input]");
    for (i = 0; i < nodes.length; i++) { nodes[i].value = lang; }
    nodes = document.querySelectorAll("[data-lang-link]");
    for (i = 0; i < nodes.length; i++) {
      nodes[i].setAttribute("href", nodes[i].getAttribute("data-lang-link") + "?lang=" + lang);
    }
    var other = lang === "nl" ? "en" : "nl";
    nodes = document.querySelectorAll("[data-lang-toggle]");
    for (i = 0; i < nodes.length; i++) {
      el = nodes[i];
      el.textContent = el.getAttribute("data-label-" + lang);
      el.setAttribute("lang", other);
      el.setAttribute("hreflang", other);
      el.setAttribute("href", withLang(other));
    }
    root.setAttribute("lang", lang);
    root.setAttribute("data-lang", lang);
  }

  function withLang(lang) {
    var params = new URLSearchParams(window.location.search);
    params.set("lang", lang);
    return "?" + params.toString();
  }

  function toggle(event) {
    event.preventDefault();
    var lang = root.getAttribute("data-lang") === "nl" ? "en" : "nl";
    apply(lang);
    store(lang);
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", withLang(lang) + window.location.hash);
    }
  }

  var toggles = document.querySelectorAll("[data-lang-toggle]");
  for (var i = 0; i < toggles.length; i++) { toggles[i].addEventListener("click", toggle); }

  var asked = new URLSearchParams(window.location.search).get("lang");
  var remembered = stored();
  if (!asked && (remembered === "nl" || remembered === "en") && remembered !== root.getAttribute("data-lang")) {
    apply(remembered);
  }
  root.classList.add("js");
})();
