// Starts GraphiQL on the page that /graphql serves to browsers. Everything it loads comes from this
// server (see README.md); the page's Content-Security-Policy forbids any other origin.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var setup = JSON.parse(document.getElementById("graphiql-tabs").textContent);
  var props = {
    fetcher: GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") }),
    defaultQuery: setup.defaultQuery,
    // The portals' operations, one tab each (only on a first visit: GraphiQL keeps the user's tabs).
    defaultTabs: setup.tabs,
    defaultEditorToolsVisibility: "variables",
    isHeadersEditorEnabled: false,
    shouldPersistHeaders: false,
  };
  var stored = null;
  try {
    stored = window.localStorage.getItem("graphiql:tabState");
  } catch (e) {
    stored = null;
  }
  if (!stored && setup.tabs.length) {
    // GraphiQL 3 shows a default tab's variables only after a tab switch; give the first tab's here.
    props.variables = setup.tabs[0].variables;
  }
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));

  // ---- accessibility: what GraphiQL 3.9 renders, mended after each render (axe-core 4.13's rules) ----------
  // GraphiQL's code stays as shipped; these only set attributes on its elements, and add one element of ours
  // (the list of tabs). The names come from the page (ide.py: #graphiql-name-*, in the page's language).
  // React re-renders often (a tab switch, a new tab, a query's answer) and re-creates elements (a new editor
  // per tab): a MutationObserver runs the fixes again after every change. Each fix writes only what differs,
  // so its own writes end the loop on the next pass.

  function set(element, name, value) {
    if (element.getAttribute(name) !== value) element.setAttribute(name, value);
  }

  function unset(element, name) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  }

  // label (the editors' textareas have no name) and scrollable-region-focusable (CodeMirror's scrolling
  // area is tabindex="-1" and holds nothing focusable: a keyboard cannot scroll it). The textarea is named
  // after its editor; the scrolling area becomes a focusable, named group ("<editor> scrolling area").
  function nameEditor(editor, key) {
    if (!editor) return;
    var textarea = editor.querySelector(".CodeMirror textarea");
    if (textarea) set(textarea, "aria-labelledby", "graphiql-name-" + key);
    var scroll = editor.querySelector(".CodeMirror-scroll");
    if (scroll) {
      set(scroll, "tabindex", "0");
      set(scroll, "role", "group");
      set(scroll, "aria-labelledby", "graphiql-name-" + key + " graphiql-name-scroll");
    }
  }

  function fixEditors() {
    nameEditor(root.querySelector(".graphiql-query-editor"), "query");
    // The editor tools hold the variables editor, then the headers editor when it is enabled.
    var tools = root.querySelectorAll(".graphiql-editor-tool .graphiql-editor");
    nameEditor(tools[0], "variables");
    nameEditor(tools[1], "headers");
    nameEditor(root.querySelector(".graphiql-response"), "response");
  }

  // aria-required-children (GraphiQL's role="tablist" <ul> also holds its "Add tab" button) and
  // nested-interactive (each role="tab" <li> holds two buttons, the tab's and its close button). The tabs
  // become the buttons that select them (role="tab", aria-selected); the <ul> and <li> lose their roles; a
  // tab list of ours, first in the tab bar, owns the tab buttons (aria-owns), so the close and add buttons
  // stay where they are, reachable, outside any tab. React never moves or removes our element (it only
  // touches its own), and never puts back the roles (it writes an attribute only when its value changes).
  var TABLIST = "graphiql-tablist";

  function fixTabs() {
    var list = root.querySelector("ul.graphiql-tabs");
    var ours = document.getElementById(TABLIST);
    if (!list) return;
    set(list, "role", "none");
    unset(list, "aria-label"); // a named role="none" would count as a list again (presentation-role-conflict)
    var buttons = list.querySelectorAll("li.graphiql-tab > .graphiql-tab-button");
    if (!buttons.length) {
      // One tab: GraphiQL shows none; a tab list owning nothing would break aria-required-children.
      if (ours) ours.parentNode.removeChild(ours);
      return;
    }
    var ids = [];
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var tab = button.parentNode;
      set(tab, "role", "none");
      unset(tab, "aria-selected");
      set(button, "role", "tab");
      set(button, "aria-selected", tab.classList.contains("graphiql-tab-active") ? "true" : "false");
      if (button.id) ids.push(button.id);
    }
    if (!ours || ours.parentNode !== list.parentNode) {
      if (ours) ours.parentNode.removeChild(ours);
      ours = document.createElement("div");
      ours.id = TABLIST;
      ours.className = "visually-hidden";
      ours.setAttribute("role", "tablist");
      ours.setAttribute("aria-labelledby", "graphiql-name-tabs");
      list.parentNode.insertBefore(ours, list.parentNode.firstChild);
    }
    set(ours, "aria-owns", ids.join(" "));
  }

  function fix() {
    fixEditors();
    fixTabs();
  }

  new MutationObserver(fix).observe(root, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["class", "role", "aria-selected", "aria-label", "tabindex", "id"],
  });
  fix();
})();
