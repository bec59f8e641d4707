-- Sends the request bodies of the file named by WRK_BODIES (one per line) in turn, over and over.
-- WRK_PATH is the request path, WRK_TYPE the Content-Type of the bodies.
local path = os.getenv("WRK_PATH") or "/graphql"
local content_type = os.getenv("WRK_TYPE") or "application/json"
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
local i = 0

request = function()
  i = i % #bodies + 1
  return wrk.format("POST", path, {["Content-Type"] = content_type}, bodies[i])
end
