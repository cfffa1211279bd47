-- wrk script: POST /lobby/matchmake for RPS, each request as the next player of the token file
-- (one Bearer token a line, TOKENS in the environment), round robin.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local body = '{"game-id":1}'
local i = 0

function init(args)
  -- Threads start at different players.
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format("POST", "/lobby/matchmake", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
  }, body)
end
