{{/* Chart name, truncated to the 63-character DNS label limit. */}}
{{- define "dsa-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. If the release name already contains the chart name it is used as-is,
so `helm install dsa-operator ./charts/dsa-operator` yields "dsa-operator", not "dsa-operator-dsa-operator".
*/}}
{{- define "dsa-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dsa-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels on every object of the release. */}}
{{- define "dsa-operator.labels" -}}
helm.sh/chart: {{ include "dsa-operator.chart" . }}
{{ include "dsa-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dsa
{{- end }}

{{/* Selector labels: immutable on a Deployment, so only name + instance. */}}
{{- define "dsa-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dsa-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dsa-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dsa-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dsa-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Namespaces that get RoleBindings for the deploy role when rbac.clusterWideDeploy is false. */}}
{{- define "dsa-operator.deployNamespaces" -}}
{{- $ns := .Values.rbac.deployNamespaces | default .Values.watchNamespaces -}}
{{- toJson (uniq $ns) -}}
{{- end }}

{{/* Cross-value checks that JSON schema cannot express clearly; fail early with a readable message. */}}
{{- define "dsa-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 requires leaderElection.enabled=true (otherwise several operators reconcile the same objects)" }}
{{- end }}
{{- if and .Values.rbac.create (not .Values.confinement.impersonate) (not .Values.rbac.clusterWideDeploy) (eq (len (include "dsa-operator.deployNamespaces" . | fromJsonArray)) 0) }}
{{- fail "rbac.clusterWideDeploy=false needs rbac.deployNamespaces (or watchNamespaces) to list the namespaces the operator may deploy into" }}
{{- end }}
{{- if eq (.Values.image.tag | default .Chart.AppVersion) "latest" }}
{{- fail "image.tag must not be \"latest\": pin a version or digest" }}
{{- end }}
{{- end }}
