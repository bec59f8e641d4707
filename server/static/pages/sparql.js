// The SPARQL query page (server/templates/sparql.html): examples, running a query, the result table.
// A file of its own, served from /static/pages/: the page's Content-Security-Policy allows no inline script.
"use strict";
(() => {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const queries = JSON.parse(document.getElementById("named-queries").textContent);
  const form = document.getElementById("query-form");
  const textarea = document.getElementById("query");
  const examples = document.getElementById("examples");
  const statusLine = document.getElementById("status");
  const note = document.getElementById("note");
  const results = document.getElementById("results");

  examples.addEventListener("change", () => {
    if (Object.prototype.hasOwnProperty.call(queries, examples.value)) {
      textarea.value = queries[examples.value];
    }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  // A link ending in #query=... opens the page with that query, and runs it.
  if (location.hash.startsWith("#query=")) {
    try {
      textarea.value = decodeURIComponent(location.hash.slice("#query=".length));
      run();
    } catch (error) {
      say("The link's query is not valid. / リンクのクエリが正しくありません。", true);
    }
  }
  // A link ending in #example=NAME picks that named query from the list, and runs it.
  if (location.hash.startsWith("#example=")) {
    const name = decodeURIComponent(location.hash.slice("#example=".length));
    if (Object.prototype.hasOwnProperty.call(queries, name)) {
      examples.value = name;
      examples.dispatchEvent(new Event("change"));
      run();
    } else {
      say("No example is called " + name + ". / その名前の例はありません。", true);
    }
  }
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
  });

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? "error" : "";
  }

  // Every value goes in through textContent or an attribute set by the DOM: nothing is parsed as HTML.
  function termCell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      if (term.value.startsWith(config.idBase)) {
        const a = document.createElement("a");
        a.href = "/id/" + term.value.slice(config.idBase.length);
        a.textContent = term.value;
        td.append(a);
      } else {
        td.textContent = term.value;
      }
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
      td.className = "bnode";
    } else {
      td.append(document.createTextNode(term.value));
      const extra = term["xml:lang"] ? "@" + term["xml:lang"] : term.datatype ? "^^" + term.datatype : "";
      if (extra) {
        const span = document.createElement("span");
        span.className = term["xml:lang"] ? "lang" : "datatype";
        span.textContent = extra;
        td.append(span);
      }
    }
    return td;
  }

  function showTable(data) {
    const table = document.createElement("table");
    if (typeof data.boolean === "boolean") {
      const row = table.insertRow();
      row.insertCell().textContent = "ASK";
      row.insertCell().textContent = String(data.boolean);
      return { node: table, rows: 1 };
    }
    const vars = data.head.vars || [];
    const head = table.createTHead().insertRow();
    for (const name of vars) {
      const th = document.createElement("th");
      th.textContent = "?" + name;
      head.append(th);
    }
    const body = table.createTBody();
    for (const binding of data.results.bindings) {
      const row = body.insertRow();
      for (const name of vars) row.append(termCell(binding[name]));
    }
    return { node: table, rows: data.results.bindings.length };
  }

  async function run() {
    const started = performance.now();
    say("Running… / 実行中…", false);
    note.hidden = true;
    let response;
    try {
      response = await fetch(config.endpoint, {
        method: "POST",
        headers: { "Accept": "application/sparql-results+json, text/turtle;q=0.5" },
        body: new URLSearchParams({ query: textarea.value }),
      });
    } catch (error) {
      say("The server could not be reached. / サーバーに接続できません。 " + error, true);
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const type = (response.headers.get("content-type") || "").split(";")[0].trim();
    if (!response.ok) {
      say(response.status + " " + (await response.text()), true);
      return;
    }
    results.replaceChildren();
    let rows;
    if (type === "application/sparql-results+json") {
      const shown = showTable(await response.json());
      results.append(shown.node);
      rows = shown.rows;
    } else {
      // CONSTRUCT and DESCRIBE come back as Turtle.
      const pre = document.createElement("pre");
      pre.textContent = await response.text();
      results.append(pre);
      rows = response.headers.get("x-sparql-row-count") || "";
    }
    say(rows + " rows / 行, " + seconds + " s", false);
    if (response.headers.get("x-sparql-truncated") === "true") {
      const limit = response.headers.get("x-sparql-row-limit");
      note.textContent = "Truncated at the row limit of " + limit + ". / 行数の上限 " + limit + " で切り詰めました。";
      note.hidden = false;
    }
  }
})();
