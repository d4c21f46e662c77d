-- wrk script for bench/consumer.sh: cycles through pre-signed I/O Events
-- deliveries read from $CONSUMER_REQUESTS ("<base64 signature>\t<body>" lines).
-- Each wrk thread starts at a different place in the list.
local requests = {}
local index = 0
local threads = 0

function setup(thread)
  thread:set("start", threads)
  threads = threads + 1
end

function init(args)
  local file = os.getenv("CONSUMER_REQUESTS")
  for line in io.lines(file) do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", "/events", {
      ["content-type"] = "application/json",
      ["x-adobe-digital-signature-1"] = sig,
      ["x-adobe-public-key1-path"] = "/prod/keys/pub-key-test-a.pem",
    }, body)
  end
  index = (start or 0) * math.floor(#requests / 2)
end

function request()
  index = index % #requests + 1
  return requests[index]
end
