-- The portals' CheckGuest operation with variables never sent before: a counter drives the number of
-- virtual processors, and the operating system, edition, service pack, architecture and language turn
-- over lists of their own lengths (names include misspellings and other letter cases).
-- WRK_QUERY names a file that holds the operation's text as a JSON string (with its quotes).
local f = assert(io.open(os.getenv("WRK_QUERY"), "r"))
local query = f:read("*a"):gsub("%s+$", "")
f:close()
local systems = {
  "Windows XP", "windows server 2008", "Windws XP", "SUSE Linux Enterprise Server 10", "windows-vista",
  "Windows 2000 Server", "Windows Server 2003", "Widnows Server 2003", "ウィンドウズ", "Red Hat Linux 9",
  "WINDOWS VISTA", "Windows Server 2080", "windows xp professional",
}
local editions = {"null", '"Professional"', '"Enterprise"', '"Standard"', '"Ultimate"', '"Datacenter"', '"Home"'}
local arches = {"X86", "X64"}
local langs = {"EN", "JA"}
local n = 0

request = function()
  n = n + 1
  local body = string.format(
    '{"query":%s,"operationName":"CheckGuest","variables":{"os":"%s","edition":%s,"sp":%d,"arch":"%s","vcpus":%d,"lang":"%s"}}',
    query, systems[n % #systems + 1], editions[n % #editions + 1], n % 4, arches[n % 2 + 1], n, langs[n % 3 % 2 + 1])
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, body)
end
