#!/usr/bin/env bash
# A new user's first hour with Lutece, against a running `npm start` (default http://localhost:3000):
# sign up, upload penguins, fine-tune a classifier, read its model card, deploy to STAGING, predict
# (cold then warm), promote to PRODUCTION, predict over REST with an API key, watch it scale to zero,
# then read usage and export the CSV.
set -euo pipefail
API=${API:-http://localhost:3000}
DATA=${DATA:-$(dirname "$0")/../test/fixtures/penguins.csv}
EMAIL=${EMAIL:-walk-$RANDOM@example.fr}

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);const r=new Function("d","return "+process.argv[1])(v);if(r===undefined){console.error(s);process.exit(1)}console.log(typeof r==="string"?r:JSON.stringify(r))})' "$1"; }
gql() { # gql <query> [variables-json]
  local body; body=$(node -e 'console.log(JSON.stringify({query: process.argv[1], variables: JSON.parse(process.argv[2] || "{}")}))' "$1" "${2:-}")
  curl -sf "$API/graphql" -H 'content-type: application/json' ${TOKEN:+-H "authorization: Bearer $TOKEN"} -d "$body"
}
step() { printf '\n== %s\n' "$*"; }

step "sign up ($EMAIL)"
TOKEN=$(gql 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }' "{\"i\":{\"email\":\"$EMAIL\",\"password\":\"correct horse battery staple\",\"displayName\":\"Ada\",\"tenantName\":\"Clinique des Alpes\"}}" | json 'd.data.signUp.accessToken')
PROJECT=$(gql 'mutation { createProject(input: {name: "Penguins", dataClassification: INTERNAL}) { id } }' | json 'd.data.createProject.id')
echo "project $PROJECT"

step "upload penguins"
DATASET=$(gql 'mutation($p: ID!) { createDataset(input: {projectId: $p, name: "penguins", format: CSV, purpose: "species identification for field biologists", legalBasis: NOT_APPLICABLE, containsPersonalData: false}) { id } }' "{\"p\":\"$PROJECT\"}" | json 'd.data.createDataset.id')
VERSION=$(curl -sf -X POST "$API/v1/datasets/$DATASET/versions" -H "authorization: Bearer $TOKEN" -H 'content-type: text/csv' --data-binary @"$DATA" | json 'd.id')
gql 'query($v: ID!) { datasetVersion(id: $v) { version rowCount sha256 columns { name type nullCount } } }' "{\"v\":\"$VERSION\"}" | json 'd.data.datasetVersion'

step "set a monthly budget with a hard cap"
gql 'mutation { setBudget(input: {monthlyLimitEur: "50.00", hardCap: true, alertThresholds: [50, 80, 100]}) { monthlyLimitEur hardCap spentThisMonthEur } }' | json 'd.data.setBudget'

step "estimate and start a fine-tuning job"
INPUT="{\"projectId\":\"$PROJECT\",\"baseModel\":\"tabular-classifier\",\"trainingDatasetVersionId\":\"$VERSION\",\"targetColumn\":\"species\",\"hyperparameters\":{\"epochs\":15,\"batchSize\":16,\"learningRate\":0.01}}"
gql 'query($i: CreateFineTuningJobInput!) { estimateFineTuningCost(input: $i) { gpuSeconds amountEur lowEur highEur basis } }' "{\"i\":$INPUT}" | json 'd.data.estimateFineTuningCost'
JOB=$(gql 'mutation($i: CreateFineTuningJobInput!) { createFineTuningJob(input: $i) { id status pool } }' "{\"i\":$INPUT}" | json 'd.data.createFineTuningJob.id')
echo "job $JOB"
for _ in $(seq 1 240); do
  STATUS=$(gql 'query($j: ID!) { fineTuningJob(id: $j) { status progress } }' "{\"j\":\"$JOB\"}" | json 'd.data.fineTuningJob.status + " " + Math.round(d.data.fineTuningJob.progress*100) + "%"')
  echo "  $STATUS"
  case "$STATUS" in SUCCEEDED*|FAILED*|CANCELLED*) break ;; esac
  sleep 1
done
gql 'query($j: ID!) { fineTuningJob(id: $j) { status backend gpuSeconds costEur costToEstimateRatio metrics { epoch loss valAccuracy } checkpoints { epoch sha256 storageRegion } } }' "{\"j\":\"$JOB\"}" | json 'd.data.fineTuningJob'
MODEL_VERSION=$(gql 'query($j: ID!) { fineTuningJob(id: $j) { resultModelVersion { id } } }' "{\"j\":\"$JOB\"}" | json 'd.data.fineTuningJob.resultModelVersion.id')

step "model card"
gql 'query($m: ID!) { modelVersion(id: $m) { version metrics modelCard } }' "{\"m\":\"$MODEL_VERSION\"}" | json 'd.data.modelVersion'

step "deploy to STAGING and predict (cold, then warm)"
ENDPOINT=$(gql 'mutation($p: ID!, $m: ID!) { createEndpoint(input: {projectId: $p, name: "penguins", modelVersionId: $m, environment: STAGING, idleTimeoutSeconds: 20}) { id status } }' "{\"p\":\"$PROJECT\",\"m\":\"$MODEL_VERSION\"}" | json 'd.data.createEndpoint.id')
ROW='{"island":"Biscoe","bill_length_mm":47.5,"bill_depth_mm":15,"flipper_length_mm":218,"body_mass_g":4950,"sex":"FEMALE"}'
for call in cold warm; do
  gql 'mutation($e: ID!, $in: [JSON!]!) { predict(endpointId: $e, inputs: $in) { outputs coldStart latencyMs modelVersionId } }' "{\"e\":\"$ENDPOINT\",\"in\":[$ROW]}" | json 'd.data.predict'
done

step "promote to PRODUCTION and predict over REST with an API key"
PROD=$(gql 'mutation($e: ID!) { promoteEndpoint(id: $e) { id environment } }' "{\"e\":\"$ENDPOINT\"}" | json 'd.data.promoteEndpoint.id')
KEY=$(gql 'mutation($p: ID!) { createApiKey(input: {name: "portal", role: VIEWER, projectId: $p}) { secret } }' "{\"p\":\"$PROJECT\"}" | json 'd.data.createApiKey.secret')
curl -sf -X POST "$API/v1/endpoints/$PROD/predict" -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d "{\"inputs\":[$ROW]}" | json 'd'

step "idle: the endpoint scales to zero"
for _ in $(seq 1 60); do
  S=$(gql 'query($e: ID!) { endpoint(id: $e) { status replicas } }' "{\"e\":\"$ENDPOINT\"}" | json 'd.data.endpoint.status + " replicas=" + d.data.endpoint.replicas')
  echo "  $S"
  case "$S" in SCALED_TO_ZERO*) break ;; esac
  sleep 2
done

step "usage this month, and the finance CSV"
FROM=$(date -u +%Y-%m-01T00:00:00Z); TO=$(date -u -d '+1 day' +%Y-%m-%dT00:00:00Z)
gql 'query($f: DateTime!, $t: DateTime!) { usageReport(input: {from: $f, to: $t, groupBy: [PROJECT, METER]}) { rows { projectName meter quantity unit amountEur } totalEur } budget { spentThisMonthEur forecastEur } }' "{\"f\":\"$FROM\",\"t\":\"$TO\"}" | json 'd.data'
curl -sf "$API/v1/usage/export.csv?from=$FROM&to=$TO&groupBy=MONTH,PROJECT,METER" -H "authorization: Bearer $TOKEN"
