{{/*
Helpers of the Lutece chart. Every pod is built from the same pieces: labels, the pod and container
security contexts, the read-only root filesystem with a /tmp emptyDir, and environment variables
that are either plain settings (value) or references to existing Secrets (secretKeyRef).
*/}}

{{/* Chart name. */}}
{{- define "lutece.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource name prefix: <release>-lutece, or the release name when it already contains the chart name. */}}
{{- define "lutece.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a pool's worker resources. */}}
{{- define "lutece.workerName" -}}
{{- printf "%s-worker-%s" (include "lutece.fullname" .root) .pool.id | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels common to every resource. */}}
{{- define "lutece.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "lutece.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lutece
{{- end -}}

{{/* Selector labels of one component (api, migrations, worker). */}}
{{- define "lutece.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lutece.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image reference: registry/repository@digest, or :tag (default: the chart's appVersion). */}}
{{- define "lutece.image" -}}
{{- $registry := .root.Values.image.registry | trimSuffix "/" -}}
{{- $prefix := ternary (printf "%s/" $registry) "" (ne $registry "") -}}
{{- if .image.digest -}}
{{- printf "%s%s@%s" $prefix .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s%s:%s" $prefix .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security context: non-root, numeric ids, seccomp RuntimeDefault. */}}
{{- define "lutece.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context: read-only root filesystem, no privilege, every capability dropped. */}}
{{- define "lutece.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The only writable place of a pod. */}}
{{- define "lutece.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.podSecurity.tmpSizeLimit }}
{{- end -}}

{{- define "lutece.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/*
Plain environment variables from a map of NAME -> string. Empty strings are left out, so the
application's own default applies (an empty S3_ENDPOINT would not be a valid URL).
*/}}
{{- define "lutece.plainEnv" -}}
{{- range $name, $value := . }}
{{- if ne (toString $value) "" }}
- name: {{ $name }}
  value: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
One environment variable from an existing Secret. Secrets are only ever referenced: the chart
holds no secret value. `refs` is the map of references (secrets, or workers.secrets over secrets).
*/}}
{{- define "lutece.secretEnv" -}}
{{- $ref := index .refs .name | default dict -}}
{{- if $ref.name }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ required (printf "secrets.%s.key is required" .name) $ref.key }}
{{- else if .required }}
{{- fail (printf "secrets.%s.name is required: the name of an existing Secret (see docs/DEPLOYMENT.md, Secrets)" .name) }}
{{- end }}
{{- end -}}

{{/* Node name and pod name from the downward API. */}}
{{- define "lutece.storageNodeEnv" -}}
- name: STORAGE_NODE
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- end -}}

{{/* The api's GPU_POOLS: the same pools the cluster runs workers for, in the same order. */}}
{{- define "lutece.gpuPoolsJson" -}}
{{- $pools := list -}}
{{- range .Values.gpuPools -}}
{{- $pools = append $pools (dict "id" .id "region" .region "gpuClass" .gpuClass "priceClass" (default "standard" .priceClass) "dedicatedTenantId" .dedicatedTenantId) -}}
{{- end -}}
{{- toJson $pools -}}
{{- end -}}

{{/*
Required node affinity on a French region. Kubernetes has no prefix operator, so the regions are
listed; each one is checked against ^fr- here (and in values.schema.json).
*/}}
{{- define "lutece.regionRequirement" -}}
{{- range .regions }}
{{- if not (regexMatch "^fr-[a-z0-9-]+$" .) }}
{{- fail (printf "region %q is not a French region (fr-*): Lutece runs in France only" .) }}
{{- end }}
{{- end -}}
- key: topology.kubernetes.io/region
  operator: In
  values:
{{- range .regions }}
    - {{ . | quote }}
{{- end }}
{{- end -}}

{{/* A NetworkPolicy peer list, refused when empty (an empty `to` would allow every destination). */}}
{{- define "lutece.peers" -}}
{{- if empty .peers }}
{{- fail (printf "networkPolicy.%s.to is empty: list the peers (ipBlock CIDRs of the managed service, or selectors); an empty list would allow any destination" .what) }}
{{- end }}
{{- toYaml .peers }}
{{- end -}}

{{/* Checks that span several values; rendered (as nothing) by every template that includes it. */}}
{{- define "lutece.validate" -}}
{{- if and .Values.expectedNamespace (ne .Values.expectedNamespace .Release.Namespace) }}
{{- fail (printf "these values are meant for namespace %q, not %q (expectedNamespace)" .Values.expectedNamespace .Release.Namespace) }}
{{- end }}
{{- if ne (toString .Values.config.STORAGE_DRIVER) "s3" }}
{{- fail "config.STORAGE_DRIVER must be s3 in a cluster: the local driver needs one disk shared by the api and every worker" }}
{{- end }}
{{- if not .Values.config.S3_BUCKET }}
{{- fail "config.S3_BUCKET is required" }}
{{- end }}
{{- if empty .Values.gpuPools }}
{{- fail "gpuPools needs at least one pool: the api refuses to start without one" }}
{{- end }}
{{- $ids := dict -}}
{{- range .Values.gpuPools }}
{{- if hasKey $ids .id }}
{{- fail (printf "gpuPools: pool id %q appears twice" .id) }}
{{- end }}
{{- $_ := set $ids .id true -}}
{{- if not (regexMatch "^fr-[a-z0-9-]+$" .region) }}
{{- fail (printf "gpuPools[%s].region %q is not a French region (fr-*)" .id .region) }}
{{- end }}
{{- if and (eq .flavor "gpu") (lt (int .gpus) 1) }}
{{- fail (printf "gpuPools[%s]: a gpu pool needs gpus >= 1" .id) }}
{{- end }}
{{- if and (eq .flavor "cpu") (gt (int .gpus) 0) }}
{{- fail (printf "gpuPools[%s]: a cpu pool requests no GPU (gpus: 0)" .id) }}
{{- end }}
{{- end }}
{{- end -}}
