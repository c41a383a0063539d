"""FHIR ingest load: transaction Bundles of N rounds, as a monitor gateway sends.

Each round is six vital-signs Observations (temperature, heart rate,
respiratory rate, SpO2, systolic and diastolic BP) at one time, rounds 15
minutes apart (more than the grouping window), every identifier new.
The Lua script builds the same Bundle for wrk; ``bundle`` builds it here
for the pre-flight check and the query count.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SPACING = timedelta(minutes=15)
# (LOINC, UCUM unit, value for request n)
VITALS = (
    ("8310-5", "Cel", lambda n: 36.5 + (n % 30) / 10),
    ("8867-4", "/min", lambda n: 70 + n % 50),
    ("9279-1", "/min", lambda n: 14 + n % 10),
    ("59408-5", "%", lambda n: 99 - n % 8),
    ("8480-6", "mm[Hg]", lambda n: 125 - n % 30),
    ("8462-4", "mm[Hg]", lambda n: 75 - n % 15),
)


def observation(ident: str, mrn: str, at: datetime, code: str, value, unit: str) -> dict:
    return {
        "resource": {
            "resourceType": "Observation",
            "identifier": [{"system": "urn:bench", "value": ident}],
            "status": "final",
            "category": [{"coding": [{"system": CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"identifier": {"value": mrn}},
            "effectiveDateTime": at.isoformat(timespec="seconds"),
            "valueQuantity": {
                "value": value,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        },
        "request": {"method": "POST", "url": "Observation"},
    }


def bundle(mrn: str, rounds: int, n: int = 0) -> dict:
    now = timezone.now().replace(microsecond=0)
    tag = uuid.uuid4().hex
    entries = [
        observation(f"{tag}-{r}-{code}", mrn, now - (rounds - r) * SPACING, code, value(n), unit)
        for r in range(rounds)
        for code, unit, value in VITALS
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


LUA = r"""
local n = 0
local patients = {%(mrns)s}
local rounds = %(rounds)d
local vitals = {
  {"8310-5", "Cel", function(k) return string.format("%%.1f", 36.5 + (k %% 30) / 10) end},
  {"8867-4", "/min", function(k) return tostring(70 + k %% 50) end},
  {"9279-1", "/min", function(k) return tostring(14 + k %% 10) end},
  {"59408-5", "%%", function(k) return tostring(99 - k %% 8) end},
  {"8480-6", "mm[Hg]", function(k) return tostring(125 - k %% 30) end},
  {"8462-4", "mm[Hg]", function(k) return tostring(75 - k %% 15) end},
}
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%%x+)") or "1", 16) %% 100000)
  -- Each thread starts at its own patient: two Bundles for one patient
  -- would wait on each other's row lock.
  n = math.random(0, #patients - 1)
end
request = function()
  n = n + 1
  local mrn = patients[(n %% #patients) + 1]
  local tag = string.format("%%d-%%d-%%d", n, math.random(0, 999999999), math.random(0, 999999999))
  local now = os.time()
  local parts = {}
  for r = 0, rounds - 1 do
    local at = os.date("!%%Y-%%m-%%dT%%H:%%M:%%S+00:00", now - (rounds - r) * 900)
    for _, v in ipairs(vitals) do
      parts[#parts + 1] = '{"resource":{"resourceType":"Observation","identifier":[{"system":' ..
        '"urn:bench","value":"' .. tag .. "-" .. r .. "-" .. v[1] .. '"}],"status":"final",' ..
        '"category":[{"coding":[{"system":"%(category)s","code":"vital-signs"}]}],' ..
        '"code":{"coding":[{"system":"http://loinc.org","code":"' .. v[1] .. '"}]},' ..
        '"subject":{"identifier":{"value":"' .. mrn .. '"}},"effectiveDateTime":"' .. at ..
        '","valueQuantity":{"value":' .. v[3](n) .. ',"unit":"' .. v[2] ..
        '","system":"http://unitsofmeasure.org","code":"' .. v[2] .. '"}},' ..
        '"request":{"method":"POST","url":"Observation"}}'
    end
  end
  local body = '{"resourceType":"Bundle","type":"transaction","entry":[' ..
    table.concat(parts, ",") .. "]}"
  return wrk.format("POST", "/fhir/", {["Content-Type"] = "application/fhir+json",
    ["Authorization"] = "Bearer %(bearer)s"}, body)
end
"""


def lua_script(mrns: list[str], rounds: int, bearer: str) -> str:
    return LUA % {
        "mrns": ",".join(f'"{m}"' for m in mrns),
        "rounds": rounds,
        "category": CATEGORY,
        "bearer": bearer,
    }
