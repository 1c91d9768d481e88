-- wrk script: register work orders over the API.
-- TOKEN=$(…login…) wrk -t2 -c32 -d20s -s bench/create.lua http://127.0.0.1:8080/api/v1/tickets
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"channel":"phone","type":"complaint","title":"滨江路夜间施工噪音扰民","content":"每晚十一点后仍在施工，严重影响周边居民休息，请有关部门尽快处理。","citizen":{"name":"王小明","phone":"13812345678"},"address":"江北区滨江路88号"}'
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("requests/s %.1f  p50 %.1fms  p99 %.1fms  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
