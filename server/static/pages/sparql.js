// The SPARQL query page (server/templates/sparql.html): Yasgui (server/static/yasgui/, served under the
// endpoint's /static/) set up for this graph. A file of its own, served from /static/pages/: the page's
// Content-Security-Policy allows no inline script.
//
// What is ours, on top of Yasgui:
// - the endpoint is always this server's (a tab kept from another visit cannot point elsewhere);
// - completion of prefixes, properties and classes from this graph, never from the internet (Yasqe's own
//   completers ask prefix.cc and Linked Open Vocabularies);
// - the result table writes IRIs with the graph's prefixes, links the graph's IRIs to their pages on this
//   server, and shows a literal as its value (the datatype on hover, the language as a small tag);
// - the address: /sparql?query=… opens a tab with that query and runs it, and running a query writes it
//   into the address (and into the editor's share link), so the address is always a link to the results;
// - the named queries of queries/ open as tabs; a history of the queries run in this browser;
// - links to download the results shown, as CSV and JSON (Turtle for a graph), with no second query.
"use strict";
(() => {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const queries = JSON.parse(document.getElementById("named-queries").textContent);
  const examples = document.getElementById("examples");
  const historyList = document.getElementById("history");
  const statusLine = document.getElementById("status");
  const note = document.getElementById("note");
  const downloads = document.getElementById("downloads");
  const endpoint = new URL(config.endpoint, location.href).href;
  const HISTORY_KEY = "hvkg-sparql-history";
  const HISTORY_SIZE = 30;
  const GRAPH_ARGS = ["default-graph-uri", "named-graph-uri"];
  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? "error" : "";
  }

  // The editor's files, before this page's style sheet so that ours wins where both style a thing.
  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = config.editor + "/yasgui.min.css";
  document.head.prepend(style);
  const script = document.createElement("script");
  script.src = config.editor + "/yasgui.min.js";
  script.addEventListener("load", () => {
    try {
      start(window.Yasgui);
    } catch (error) {
      say("The editor failed to start. / エディターを起動できませんでした。 " + error, true);
      throw error;
    }
  });
  script.addEventListener("error", () => {
    say("The editor could not be loaded. / エディターを読み込めませんでした。", true);
  });
  document.head.append(script);

  // --- the result table -------------------------------------------------------------------------------------

  const escapeHtml = (text) =>
    String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  // A prefixed name only when what follows the namespace reads as a local name (no "/", "#", "?", space).
  const LOCAL_NAME = /^[\p{L}\p{N}_-](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_-])?$|^$/u;

  function prefixed(iri, prefixes) {
    let best = null;
    for (const [prefix, namespace] of Object.entries(prefixes || {})) {
      if (iri.startsWith(namespace) && LOCAL_NAME.test(iri.slice(namespace.length))) {
        if (best === null || namespace.length > best[1].length) best = [prefix, namespace];
      }
    }
    return best === null ? null : best[0] + ":" + iri.slice(best[1].length);
  }

  // Where an IRI leads: the graph's own IRIs to their page on this server (they are minted under a base
  // that need not resolve), any other http(s) IRI to itself, anything else nowhere.
  function pageOf(iri) {
    if (iri.startsWith(config.idBase)) return "/id/" + iri.slice(config.idBase.length);
    return /^https?:\/\//i.test(iri) ? iri : null;
  }

  function iriHtml(iri, prefixes) {
    const name = prefixed(iri, prefixes);
    const shown = escapeHtml(name === null ? "<" + iri + ">" : name);
    const href = pageOf(iri);
    if (href === null) return `<span class="iri" title="${escapeHtml(iri)}">${shown}</span>`;
    const outside = !href.startsWith("/");
    return (
      `<a class="iri" href="${escapeHtml(href)}" title="${escapeHtml(iri)}"` +
      (outside ? ` rel="noopener noreferrer" target="_blank"` : "") +
      `>${shown}</a>`
    );
  }

  function literalHtml(binding, prefixes) {
    const value = escapeHtml(binding.value);
    if (binding["xml:lang"]) {
      return `<span class="literal" lang="${escapeHtml(binding["xml:lang"])}">${value}</span>` +
        `<sup class="lang">@${escapeHtml(binding["xml:lang"])}</sup>`;
    }
    if (binding.datatype) {
      const type = prefixed(binding.datatype, prefixes) || binding.datatype;
      return `<span class="literal" title="${escapeHtml(type)}">${value}</span>`;
    }
    return `<span class="literal">${value}</span>`;
  }

  function graphTable(Yasr) {
    const Table = Yasr.plugins.table;
    // DataTables' own words under the table, in both languages.
    Table.defaults.tableConfig.language = {
      ...Table.defaults.tableConfig.language,
      info: "Rows _START_–_END_ of _TOTAL_ / _TOTAL_ 行中 _START_〜_END_ 行",
      infoEmpty: "No rows / 行はありません",
      infoFiltered: "(filtered from _MAX_ / 全 _MAX_ 行から絞り込み)",
      emptyTable: "No results / 結果はありません",
      zeroRecords: "No row matches / 一致する行はありません",
    };
    // Yasr's table, with the cells written as above; all else (paging, filter, sorting) is Yasr's.
    return class GraphTable extends Table {
      label = "Table / 表";

      drawControls() {
        super.drawControls();
        const controls = this.tableControls;
        const [simple, ellipse] = controls.querySelectorAll(".switch .label");
        if (simple) simple.textContent = "Simple view / 簡易表示";
        if (ellipse) ellipse.textContent = "Shorten long values / 長い値を省略";
        const size = controls.querySelector(".pageSizerLabel");
        if (size) size.textContent = "Rows per page / 1 ページの行数: ";
        const filter = controls.querySelector(".tableFilter");
        if (filter) {
          filter.placeholder = "Filter the results / 結果を絞り込む";
          filter.setAttribute("aria-label", filter.placeholder);
        }
      }

      getColumns() {
        const columns = super.getColumns();
        // The row number's column: a header a screen reader can say (Yasr leaves it empty).
        if (columns.length) columns[0].title = '<span class="visually-hidden">Row / 行</span>';
        return columns;
      }

      getSizeFirstColumn() {
        return super.getSizeFirstColumn() + 16; // room beside the number: Yasr's width is the digits alone
      }

      getCellContent(binding, prefixes) {
        if (binding.type === "uri") return `<div>${iriHtml(binding.value, prefixes)}</div>`;
        if (binding.type === "bnode") return `<div><span class="bnode">_:${escapeHtml(binding.value)}</span></div>`;
        return `<div>${literalHtml(binding, prefixes)}</div>`;
      }
    };
  }

  // --- completion from this graph ---------------------------------------------------------------------------

  // Every property, or every class, the graph uses: asked of this endpoint once, when first completed.
  const terms = {};
  function termsOf(kind) {
    if (!terms[kind]) {
      const query = kind === "property"
        ? "SELECT DISTINCT ?term WHERE { ?s ?term ?o }"
        : "SELECT DISTINCT ?term WHERE { ?s a ?term FILTER(isIRI(?term)) }";
      terms[kind] = fetch(endpoint, {
        method: "POST",
        headers: { "Accept": "application/sparql-results+json" },
        body: new URLSearchParams({ query }),
      })
        .then((response) => (response.ok ? response.json() : { results: { bindings: [] } }))
        .then((data) => data.results.bindings.map((b) => b.term.value).sort())
        .catch(() => []);
    }
    return terms[kind];
  }

  function registerCompleters(Yasqe) {
    const prefixList = Object.entries(config.prefixes).map(([prefix, iri]) => `${prefix}: <${iri}>`).sort();
    // Yasqe's prefix completer with this graph's prefixes for its list (a list, so nothing is fetched).
    Yasqe.forkAutocompleter("prefixes", { name: "graphPrefixes", get: prefixList, persistenceId: null }, false);
    for (const kind of ["property", "class"]) {
      Yasqe.forkAutocompleter(kind, {
        name: kind === "property" ? "graphProperties" : "graphClasses",
        bulk: false,
        get: (_yasqe, token) => {
          const start = (token && token.autocompletionString) || "";
          return termsOf(kind).then((all) => all.filter((iri) => iri.startsWith(start)).slice(0, 50));
        },
      }, false);
    }
  }

  // --- the address, the history, the downloads ---------------------------------------------------------------

  // A query-string value: percent-encoded but for the characters a query string may hold as they are
  // (RFC 3986: "/", ":", "?", "@", ","), so an address with IRIs in it stays readable.
  const encode = (text) => encodeURIComponent(text).replace(/%(2F|3A|3F|40|2C)/g, decodeURIComponent);

  function addressOf(query, args) {
    let address = config.endpoint + "?query=" + encode(query);
    for (const arg of args || []) {
      if (GRAPH_ARGS.includes(arg.name)) address += "&" + arg.name + "=" + encode(arg.value);
    }
    return address;
  }

  function graphArgsOf(tab) {
    const args = tab.getRequestConfig().args;
    return (Array.isArray(args) ? args : []).filter((arg) => GRAPH_ARGS.includes(arg.name));
  }

  function tabAddress(tab) {
    return new URL(addressOf(tab.getQuery(), graphArgsOf(tab)), location.href).href;
  }

  // What the address asks for: a query (?query=…, or #query=… of older links) with its graphs, or a named
  // query (#example=NAME).
  function readAddress() {
    const search = new URLSearchParams(location.search);
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.has("example")) return { example: hash.get("example") };
    const source = hash.has("query") ? hash : search.has("query") ? search : null;
    if (source === null) return {};
    const args = [];
    for (const name of GRAPH_ARGS) for (const value of source.getAll(name)) args.push({ name, value });
    return { query: source.get("query"), args };
  }

  function readHistory() {
    try {
      const list = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(list) ? list.filter((item) => typeof item === "string") : [];
    } catch (error) {
      return [];
    }
  }

  function showHistory() {
    while (historyList.options.length > 1) historyList.remove(1);
    for (const query of readHistory()) {
      const option = document.createElement("option");
      option.value = query;
      // The first line that says something: skip PREFIX lines and comments.
      const lines = query.split("\n").map((line) => line.trim());
      const telling = lines.find((line) => line && !/^(prefix|base)\s/i.test(line) && !line.startsWith("#"));
      option.textContent = (telling || lines[0] || "").slice(0, 90);
      historyList.add(option);
    }
  }

  function remember(query) {
    const list = [query, ...readHistory().filter((item) => item !== query)].slice(0, HISTORY_SIZE);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(list));
    } catch (error) {
      // storage full or switched off: the history is a convenience, the query still runs
    }
    showHistory();
  }

  const blobs = {};
  function offer(id, text, type, filename) {
    const link = document.getElementById(id);
    if (blobs[id]) URL.revokeObjectURL(blobs[id]);
    blobs[id] = null;
    link.hidden = text === null;
    if (text === null) {
      link.removeAttribute("href");
      return;
    }
    blobs[id] = URL.createObjectURL(new Blob([text], { type }));
    link.href = blobs[id];
    link.download = filename;
  }

  function offerDownloads(tab, response) {
    const yasr = tab.getYasr();
    const results = yasr && yasr.results;
    const ok = results && !results.hasError() && response && response.ok;
    const type = ok ? (response.headers.get("content-type") || "").split(";")[0].trim() : "";
    const base = (tab.getName() || "results").replace(/[^\p{L}\p{N}_-]+/gu, "-");
    const table = type === "application/sparql-results+json" && results.getVariables().length > 0;
    offer("download-csv", table ? results.asCsv() : null, "text/csv", base + ".csv");
    offer("download-json", type.endsWith("json") ? response.content : null, type, base + ".json");
    offer("download-turtle", type === "text/turtle" ? response.content : null, type, base + ".ttl");
    downloads.hidden = !ok;
    if (!ok) return;
    const rows = response.headers.get("x-sparql-row-count");
    if (rows !== null) say(rows + " rows / " + rows + " 行", false);
    note.hidden = response.headers.get("x-sparql-truncated") !== "true";
    const limit = response.headers.get("x-sparql-row-limit");
    note.textContent = "Truncated at the row limit of " + limit + ". / 行数の上限 " + limit + " で切り詰めました。";
  }

  // --- accessible names -------------------------------------------------------------------------------------------

  // Controls Yasgui draws without a name a screen reader can say: named here as they appear.
  const NAMES = [
    [".CodeMirror textarea", "SPARQL query / SPARQL クエリ"],
    [".tableSizer", "Rows per page / 1 ページの行数"],
    [".tabsList input[type=text]", "Tab name / タブ名"],
    [".yasr_downloadIcon", "Download the results / 結果をダウンロード"],
  ];

  const named = (element) =>
    element.hasAttribute("aria-label") || element.hasAttribute("aria-labelledby") || element.closest("label") ||
    (element.id && document.querySelector(`label[for="${CSS.escape(element.id)}"]`));

  function nameControls(root) {
    for (const [selector, name] of NAMES) {
      for (const element of root.querySelectorAll(selector)) {
        if (!element.hasAttribute("aria-label")) element.setAttribute("aria-label", name);
      }
    }
    // The fields of a tab's settings (Yasgui's words beside them, made their name) and of the share box.
    for (const element of root.querySelectorAll(".tabMenu input, .tabMenu select")) {
      if (named(element)) continue;
      const wrapper = element.closest(".requestConfigWrapper");
      const words = [
        wrapper && wrapper.querySelector(".label:not(.selectorLabel)"),
        element.closest(".selector") && element.closest(".selector").querySelector(".selectorLabel"),
      ].filter(Boolean).map((label) => label.textContent.trim());
      if (element.placeholder) words.push(element.placeholder);
      element.setAttribute("aria-label", words.join(" — ") || "Setting / 設定");
    }
    for (const element of root.querySelectorAll(".yasqe_sharePopup input")) {
      if (!named(element)) element.setAttribute("aria-label", "Link to this query / このクエリへのリンク");
    }
    // Yasr's "?" leads to Triply's documentation on the internet; here it opens this page's help.
    for (const link of root.querySelectorAll(".yasr_external_ref_btn")) {
      if (link.getAttribute("href") !== "#help") {
        link.setAttribute("href", "#help");
        link.removeAttribute("target");
        link.setAttribute("aria-label", "Help / ヘルプ");
        link.title = "Help / ヘルプ";
      }
    }
  }

  // The tab list may hold tabs only (ARIA): Yasgui's "+" button moves beside it, into a bar of its own.
  function moveAddButton(root) {
    const list = root.querySelector(".tabsList");
    const add = list && list.querySelector(".addTab");
    if (!add) return;
    const bar = document.createElement("div");
    bar.className = "tabBar";
    list.before(bar);
    bar.append(list, add);
  }

  // --- the editor ----------------------------------------------------------------------------------------------

  function start(Yasgui) {
    registerCompleters(Yasgui.Yasqe);
    Yasgui.Yasr.registerPlugin("table", graphTable(Yasgui.Yasr));
    // Yasgui's share link is its own #query=…&endpoint=… form; ours is the page's address for the query.
    Yasgui.Tab.prototype.getShareableLink = function () {
      return tabAddress(this);
    };
    const holder = document.getElementById("editor");
    document.getElementById("loading").remove();
    const asked = readAddress();
    const yasgui = new Yasgui(holder, {
      persistenceId: "hvkg-sparql", // the tabs, their queries and last results, kept in this browser
      populateFromUrl: false, // the address is read below, where a link's query finds its tab again
      // a first visit by a link opens the link's tab alone, not an empty one beside it
      autoAddOnInit: asked.query === undefined && asked.example === undefined,
      autofocus: true,
      tabName: "Query / クエリ",
      copyEndpointOnNewTab: false,
      endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
      // a function, so it is asked at every query and a tab kept from before cannot point elsewhere
      requestConfig: { endpoint: () => endpoint, method: "POST" },
      yasqe: {
        value: config.defaultQuery,
        autocompleters: ["graphPrefixes", "variables", "graphProperties", "graphClasses"],
        // The editor grows with its query rather than scrolling inside the page: a scrolling box of text
        // that takes no focus is one a keyboard cannot scroll (axe: scrollable-region-focusable).
        viewportMargin: Infinity,
        resizeable: false,
      },
      yasr: { prefixes: config.prefixes, defaultPlugin: "table" },
    });
    window.hvkgEditor = yasgui; // for the browser tests and the curious, in the console
    moveAddButton(holder);
    nameControls(holder);
    new MutationObserver(() => nameControls(holder)).observe(holder, {
      childList: true,
      subtree: true,
      attributeFilter: ["href"],
    });
    holder.addEventListener("click", (event) => {
      if (event.target.closest('a[href="#help"]')) document.getElementById("help").open = true;
    });

    const watched = new WeakSet();
    yasgui.on("query", (_yasgui, tab) => {
      say("Running… / 実行中…", false);
      note.hidden = true;
      const query = tab.getQuery();
      remember(query);
      history.replaceState(null, "", addressOf(query, graphArgsOf(tab)));
      const yasqe = tab.getYasqe();
      if (!watched.has(yasqe)) {
        watched.add(yasqe);
        // After the tab's own listener, which hands the response to the result view.
        yasqe.on("queryResponse", (_yasqe, response) => {
          if (response instanceof Error) say("The query failed. / クエリが失敗しました。", true);
          offerDownloads(tab, response instanceof Error ? null : response);
        });
      }
    });
    yasgui.on("tabSelect", () => {
      downloads.hidden = true;
      note.hidden = true;
      say("", false);
    });

    // A tab's query: from its editor, or for a tab not shown yet (whose editor Yasgui has not made), as kept.
    function queryOf(tab) {
      return tab.getYasqe() ? tab.getQuery() : tab.getPersistedJson().yasqe.value;
    }

    function findTab(test) {
      return Object.values(yasgui._tabs).find(test);
    }

    function openQuery(query, args, name) {
      const same = (tab) => queryOf(tab) === query &&
        JSON.stringify(graphArgsOf(tab)) === JSON.stringify(args || []);
      let tab = findTab(same);
      if (tab) {
        yasgui.selectTabId(tab.getId());
      } else {
        tab = yasgui.addTab(true, {
          ...(name ? { name } : {}),
          yasqe: { value: query },
          requestConfig: { args: args || [] },
        });
      }
      return yasgui.getTab();
    }

    function openExample(name) {
      if (!has(queries, name)) {
        say("No named query is called " + name + ". / その名前のクエリはありません。", true);
        return null;
      }
      const open = findTab((tab) => tab.getName() === name && queryOf(tab) === queries[name]);
      if (open) {
        yasgui.selectTabId(open.getId());
        return yasgui.getTab();
      }
      return openQuery(queries[name], [], name);
    }

    examples.addEventListener("change", () => {
      if (examples.value) openExample(examples.value);
      examples.value = "";
    });
    historyList.addEventListener("change", () => {
      if (historyList.value) openQuery(historyList.value, []);
      historyList.value = "";
    });
    showHistory();

    let tab = null;
    if (asked.example !== undefined) tab = openExample(asked.example);
    else if (asked.query !== undefined) tab = openQuery(asked.query, asked.args);
    if (tab) tab.query().catch(() => {}); // a failed query shows its error in the results
    else if (!yasgui.getTab()) yasgui.addTab(true); // a link to no named query: a plain tab, and the message
  }
})();
