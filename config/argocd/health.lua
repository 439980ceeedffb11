-- Argo CD health check for rag.tenancy.dev TenantTier, Tenant and ModelAccess.
-- Uses only Lua's base and table libraries, the ones Argo CD opens for health scripts.
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: the operator leaves AWS as it is"
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  return hs
end

-- The last pass could not do its job (AWS or Kubernetes refused a call; the message names it and
-- what to check). Checked before the generation: a failing pass never moves observedGeneration.
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Synced" and c.status == "False" then
    hs.status = "Degraded"
    hs.message = "Synced=False " .. (c.reason or "") .. ": " .. (c.message or "")
    return hs
  end
end

-- A status written for an older generation says nothing about the current spec yet.
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "The operator has not yet processed the latest change"
  return hs
end

-- Reasons that mean "on its way", not "needs a change".
local progressing = {
  Creating = true, Updating = true, Deleting = true, KeyCreating = true,
  TierNotReady = true, TenantNotReady = true, Progressing = true,
}

local ready = nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Throttled" and c.status == "True" then
    hs.status = "Degraded"
    hs.message = "Throttled: " .. (c.message or "")
    return hs
  end
  if c.type == "Ready" then
    ready = c
  end
end

if ready == nil then
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
elseif progressing[ready.reason] then
  hs.status = "Progressing"
else
  hs.status = "Degraded"
end
hs.message = (ready.reason or "") .. ": " .. (ready.message or "")
return hs
