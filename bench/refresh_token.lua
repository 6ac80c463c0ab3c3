-- wrk script of the refresh benchmark: the client-credentials token request isyncsf makes for
-- each org (same form, same client authentication in the body). The secret comes from the
-- environment, never from the command line.
local secret = os.getenv("BENCH_SECRET")
local client = os.getenv("BENCH_CLIENT_ID")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.body = "grant_type=client_credentials&client_id=" .. client .. "&client_secret=" .. secret

local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
