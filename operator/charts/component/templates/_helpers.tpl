{{/* Labels that select the component's pods: part of an immutable selector, keep them stable. */}}
{{- define "component.selector" -}}
app.kubernetes.io/name: devspace-app
app.kubernetes.io/component: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: dsa
{{- range $k, $v := .Values.labels }}
{{ $k | quote }}: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{/* true when a container or init container mounts volume $name */}}
{{- define "component.mounted" -}}
{{- $name := .name -}}
{{- range $c := concat (.root.Values.containers | default list) (.root.Values.initContainers | default list) -}}
{{- range $m := $c.volumeMounts | default list -}}
{{- if eq $m.volume.name $name }}true{{ end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "component.resources" -}}
{{- $out := dict -}}
{{- range $section := list "limits" "requests" -}}
{{- $m := index $ $section -}}
{{- if $m -}}
{{- $fixed := dict -}}
{{- range $k, $v := $m -}}
{{- if and (ne (toString $v) "") (ne (toString $v) "<nil>") -}}
{{- $_ := set $fixed (ternary "ephemeral-storage" $k (eq $k "ephemeralStorage")) (toString $v) -}}
{{- end -}}
{{- end -}}
{{- if $fixed }}{{ $_ := set $out $section $fixed }}{{ end -}}
{{- end -}}
{{- end -}}
{{- if $out }}{{ toYaml $out }}{{ end -}}
{{- end -}}

{{- define "component.container" -}}
{{- $c := .c -}}
- name: {{ $c.name | default (printf "%s-%d" .prefix .i) | quote }}
  image: {{ required (printf "%s[%d].image is required" .list .i) $c.image | quote }}
  {{- with $c.command }}
  command:
    {{- range . }}
    - {{ toString . | quote }}
    {{- end }}
  {{- end }}
  {{- with $c.args }}
  args:
    {{- range . }}
    - {{ toString . | quote }}
    {{- end }}
  {{- end }}
  {{- with $c.workingDir }}
  workingDir: {{ . | quote }}
  {{- end }}
  {{- if $c.stdin }}
  stdin: true
  {{- end }}
  {{- if $c.tty }}
  tty: true
  {{- end }}
  {{- with $c.env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- range $p := list "livenessProbe" "readinessProbe" "startupProbe" }}
  {{- with index $c $p }}
  {{ $p }}:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  {{- with $c.volumeMounts }}
  volumeMounts:
    {{- range . }}
    - mountPath: {{ .containerPath | quote }}
      name: {{ .volume.name | quote }}
      {{- with .volume.subPath }}{{ $sub := trimAll "/" . }}{{ if $sub }}
      subPath: {{ $sub | quote }}
      {{- end }}{{ end }}
      {{- if .volume.readOnly }}
      readOnly: true
      {{- end }}
    {{- end }}
  {{- end }}
  {{- with $c.resources }}
  {{- $r := include "component.resources" . }}
  {{- if $r }}
  resources:
    {{- $r | nindent 4 }}
  {{- end }}
  {{- end }}
{{- end -}}
