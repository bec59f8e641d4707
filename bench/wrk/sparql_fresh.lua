-- A SPARQL SELECT whose text changes on every request: English labels, filtered, ordered, 50 rows.
-- The counter sits in the filter, so no two requests send the same query.
local n = 0
local template = [[PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?thing ?label WHERE {
  ?thing skos:prefLabel ?label .
  FILTER(LANG(?label) = "en" && !CONTAINS(LCASE(?label), "zz%d"))
} ORDER BY ?label ?thing LIMIT 50]]

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

request = function()
  n = n + 1
  local body = "query=" .. urlencode(string.format(template, n))
  return wrk.format("POST", "/sparql", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/sparql-results+json",
  }, body)
end
