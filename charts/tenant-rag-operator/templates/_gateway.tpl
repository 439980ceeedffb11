{{- define "tro.gatewayServiceAccountName" -}}
{{- default (printf "%s-gateway" (include "tro.fullname" .)) .Values.gateway.serviceAccount.name -}}
{{- end -}}

{{/* Its own name label, so the operator's selectors (Deployment, metrics Service) never match gateway pods. */}}
{{- define "tro.gatewaySelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}-gateway
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tro.gatewayLabels" -}}
{{ include "tro.gatewaySelectorLabels" . }}
app.kubernetes.io/component: gateway
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
