#!/usr/bin/env bash
# Installs (first run, into .tools/) and starts the two DynamoDB-compatible servers the tests
# run against, on free loopback ports: moto (PyPI, `moto[server]`, in a virtualenv) and dynalite
# (npm, `--createTableMs 0`). Source it: it exports LIFT_TEST_MOTO_ENDPOINT and
# LIFT_TEST_DYNALITE_ENDPOINT and defines `stop_dynamodb_servers` (call it on exit).
tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools"
mkdir -p "$tools"

if [ ! -x "$tools/venv/bin/moto_server" ]; then
  python3 -m venv "$tools/venv" && "$tools/venv/bin/pip" install -q "moto[server]>=5,<6" \
    || { echo "could not install moto"; return 1; }
fi
if [ ! -x "$tools/node/node_modules/.bin/dynalite" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools/node" dynalite@4 \
    || { echo "could not install dynalite"; return 1; }
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "a DynamoDB test server did not open port $1"; return 1
}

moto_port=$(free_port)
# Where moto writes requests when a test turns its recorder on (/moto-api/recorder/...).
export MOTO_RECORDER_FILEPATH="$tools/moto-recording.jsonl"
# moto_server's app, one request at a time: see scripts/moto-server.py (conditional writes).
"$tools/venv/bin/python" "$(dirname "${BASH_SOURCE[0]}")/moto-server.py" -H 127.0.0.1 -p "$moto_port" >"$tools/moto.log" 2>&1 &
moto_pid=$!
dynalite_port=$(free_port)
"$tools/node/node_modules/.bin/dynalite" --port "$dynalite_port" --createTableMs 0 >"$tools/dynalite.log" 2>&1 &
dynalite_pid=$!
wait_port "$moto_port" || return 1
wait_port "$dynalite_port" || return 1

export LIFT_TEST_MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
export LIFT_TEST_DYNALITE_ENDPOINT="http://127.0.0.1:$dynalite_port"
# The SDK needs credentials and a region; local servers accept any.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"

stop_dynamodb_servers() { kill "$moto_pid" "$dynalite_pid" 2>/dev/null; wait "$moto_pid" "$dynalite_pid" 2>/dev/null; }
