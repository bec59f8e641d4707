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
})();
