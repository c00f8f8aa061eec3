# Shared by the Kafka end-to-end cases: a mock cluster (ev-test-broker) on loopback,
# fault injection through its command channel, kcat helpers, and cleanup on exit.
# Sourced by test.sh (which runs under `set -eu` in a scratch directory); not a case
# itself. Every wait is bounded.
#
#   start_broker [ARGS...]    start ev-test-broker ARGS (e.g. --topic in:4); exports
#                             BROKERS (host:port,...) and BROKER_PID. One per test.
#   broker_cmd CMD...         send one command (see ev-test-broker --help), wait for its
#                             answer (in BROKER_ANSWER); returns 1 on `error: ...`.
#   stop_broker               stop it now (SIGTERM); returns 1 unless it exited 0.
#   kcat_produce TOPIC [ARGS...]   stdin lines to TOPIC: kcat -P -b $BROKERS -t TOPIC ARGS
#   kcat_consume TOPIC [ARGS...]   TOPIC from the beginning to its current end, one
#                             payload per line: kcat -C -e -q -o beginning -f '%s\n' ARGS
#                             (later -o/-f in ARGS win).
#   cleanup_add CMD...        run CMD (eval'd, failures ignored) when the test exits;
#                             last added runs first. Use this instead of `trap ... EXIT`:
#                             a later trap would replace the broker's cleanup. An EXIT
#                             trap set before start_broker is kept and runs last.
#
# Files live in $KAFKA_DIR (default ./.kafka): broker.err (its stderr) and broker.log
# (the commands and answers). The program is $EV_TEST_BROKER, else ev-test-broker on
# PATH, else tests/kafka/ev-test-broker of the build whose ev-ingest is on PATH.
# Timeouts: KAFKA_START_TIMEOUT (s, default 10) for start and each command,
# KCAT_TIMEOUT (s, default 60) for each kcat.
#
# What librdkafka 2.0.2's mock cluster does not do (see tests/kafka/test_broker.cpp):
# keep more than about 5 MiB of record batches per partition, answer ListOffsets by
# timestamp, or give transactions any effect on readers. Consumer groups join after
# about 3 s and need session.timeout.ms >= 2500 (3000 is a good test value).

KAFKA_DIR=${KAFKA_DIR:-$PWD/.kafka}
_kafka_cleanups=()
_kafka_trap_installed=0

cleanup_add() {
  _kafka_install_trap
  _kafka_cleanups+=("$*")
}

# Runs the cleanups in reverse order; the test's exit status is kept.
_kafka_run_cleanups() {
  local i
  for ((i = ${#_kafka_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_kafka_cleanups[i]}" || true
  done
  _kafka_cleanups=()
}

_kafka_install_trap() {
  [ "$_kafka_trap_installed" = 1 ] && return 0
  _kafka_trap_installed=1
  local previous words
  previous=$(trap -p EXIT)
  if [ -n "$previous" ]; then
    eval "words=($previous)"  # trap -- 'CMD' EXIT
    _kafka_cleanups+=("${words[2]}")
  fi
  trap _kafka_run_cleanups EXIT
  # So that a timeout's SIGTERM (or ^C) still runs the cleanups, unless the test
  # handles these itself.
  [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
  [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
}

_kafka_broker_bin() {
  if [ -n "${EV_TEST_BROKER:-}" ]; then
    echo "$EV_TEST_BROKER"
  elif command -v ev-test-broker; then
    :
  else
    local ingest
    ingest=$(command -v ev-ingest) || { echo "kafka-lib: ev-ingest is not on PATH" >&2; return 1; }
    echo "$(dirname "$ingest")/../tests/kafka/ev-test-broker"
  fi
}

# _kafka_read VAR: the broker's next output line into VAR, waiting at most
# KAFKA_START_TIMEOUT seconds and giving up early if the broker has exited.
_kafka_read() {
  local _line _deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-10}))
  while :; do
    if IFS= read -r -t 0.1 -u "$_kafka_out_fd" _line; then
      printf -v "$1" '%s' "$_line"
      return 0
    fi
    # A bash read that times out keeps no partial line; the broker writes each line
    # in one write() well under PIPE_BUF, so nothing is lost between attempts.
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      echo "kafka-lib: ev-test-broker exited; its stderr:" >&2
      cat "$KAFKA_DIR/broker.err" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$_deadline" ]; then
      echo "kafka-lib: no answer from ev-test-broker in ${KAFKA_START_TIMEOUT:-10} s" >&2
      return 1
    fi
  done
}

start_broker() {
  if [ -n "${BROKER_PID:-}" ]; then
    echo "kafka-lib: a broker is already running (pid $BROKER_PID)" >&2
    return 1
  fi
  local bin
  bin=$(_kafka_broker_bin) || return 1
  [ -x "$bin" ] || { echo "kafka-lib: $bin is not built" >&2; return 1; }
  mkdir -p "$KAFKA_DIR"
  rm -f "$KAFKA_DIR/in" "$KAFKA_DIR/out"
  mkfifo "$KAFKA_DIR/in" "$KAFKA_DIR/out"
  # Both FIFOs are opened read-write by this shell, so no open blocks and the broker
  # never sees end of input while the test runs. If the shell dies, even by kill -9,
  # the broker exits (--exit-with-parent; and --quit-on-eof once every process that
  # inherited the FIFO has closed it).
  exec {_kafka_in_fd}<>"$KAFKA_DIR/in" {_kafka_out_fd}<>"$KAFKA_DIR/out"
  cleanup_add _kafka_cleanup_broker
  "$bin" --quit-on-eof --exit-with-parent "$@" <"$KAFKA_DIR/in" >"$KAFKA_DIR/out" 2>"$KAFKA_DIR/broker.err" \
    {_kafka_in_fd}>&- {_kafka_out_fd}>&- &
  BROKER_PID=$!
  export BROKER_PID
  local line
  _kafka_read line || return 1
  BROKERS=$line
  export BROKERS
  echo "# ev-test-broker $* -> $BROKERS" >>"$KAFKA_DIR/broker.log"
}

broker_cmd() {
  [ -n "${BROKER_PID:-}" ] || { echo "kafka-lib: no broker running" >&2; return 1; }
  echo "$*" >&"$_kafka_in_fd"
  BROKER_ANSWER=
  _kafka_read BROKER_ANSWER || return 1
  echo "$* -> $BROKER_ANSWER" >>"$KAFKA_DIR/broker.log"
  if [ "$BROKER_ANSWER" != ok ]; then
    echo "kafka-lib: broker_cmd $*: $BROKER_ANSWER" >&2
    return 1
  fi
}

# Stops the broker: SIGTERM, then SIGKILL after 5 s. Sets BROKER_STATUS.
_kafka_stop() {
  BROKER_STATUS=0
  [ -n "${BROKER_PID:-}" ] || return 0
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || BROKER_STATUS=$?
  BROKER_PID=
  exec {_kafka_in_fd}>&- {_kafka_out_fd}>&-
}

_kafka_cleanup_broker() {
  _kafka_stop
}

stop_broker() {
  _kafka_stop
  if [ "$BROKER_STATUS" != 0 ]; then
    echo "kafka-lib: ev-test-broker exited with status $BROKER_STATUS" >&2
    cat "$KAFKA_DIR/broker.err" >&2
    return 1
  fi
}

kcat_produce() {
  local topic=$1
  shift
  timeout "${KCAT_TIMEOUT:-60}" kcat -P -q -b "$BROKERS" -t "$topic" "$@"
}

kcat_consume() {
  local topic=$1
  shift
  timeout "${KCAT_TIMEOUT:-60}" kcat -C -q -e -b "$BROKERS" -t "$topic" -o beginning \
    -f '%s\n' "$@" </dev/null
}
