{{/* The prefix of object names: the release name, with the chart name unless it holds it. */}}
{{- define "re6st.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "re6st.operator" -}}{{ include "re6st.fullname" . }}-operator{{- end -}}
{{- define "re6st.agent" -}}{{ include "re6st.fullname" . }}-agent{{- end -}}

{{- define "re6st.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels; call with (dict "root" $ "component" "operator"). */}}
{{- define "re6st.selector" -}}
app.kubernetes.io/name: {{ default .root.Chart.Name .root.Values.nameOverride }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "re6st.image" -}}{{ .image.repository }}:{{ .image.tag | default .root.Chart.AppVersion }}{{- end -}}

{{/* The agent metrics port of mesh number .index. */}}
{{- define "re6st.agentMetricsPort" -}}
{{- if .mesh.agentMetricsPort -}}{{ .mesh.agentMetricsPort }}{{- else -}}{{ add .root.Values.agent.metricsPort .index }}{{- end -}}
{{- end -}}

{{/* The mesh's technologies as a list; WireGuard is required. */}}
{{- define "re6st.technologies" -}}
{{- $t := .technologies | default dict -}}
{{- if not (hasKey $t "wireguard" | ternary $t.wireguard true) -}}
{{- fail (printf "meshes[%s].technologies.wireguard: every host must reach every other over WireGuard" .name) -}}
{{- end -}}
{{- if hasKey $t "openvpn" | ternary $t.openvpn true -}}wireguard,openvpn{{- else -}}wireguard{{- end -}}
{{- end -}}

{{/* The OTLP variables of the operator's and the agents' containers (used when tracing.otlpEndpoint is set). */}}
{{- define "re6st.tracingEnv" -}}
{{- if not (has .Values.tracing.otlpProtocol (list "grpc" "http/protobuf")) }}
{{- fail (printf "tracing.otlpProtocol: %q is neither grpc nor http/protobuf" .Values.tracing.otlpProtocol) }}
{{- end -}}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.otlpEndpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .Values.tracing.otlpProtocol | quote }}
{{- end -}}

{{/* "true" when some mesh carries pods: the operator then runs on the host's network, since no pod network exists before it has planned one. */}}
{{- define "re6st.podNetwork" -}}
{{- $on := false }}
{{- range .Values.meshes }}
{{- if and .podNetwork .podNetwork.enabled }}{{- $on = true }}{{- end }}
{{- end }}
{{- $on -}}
{{- end }}
