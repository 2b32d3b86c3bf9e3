#!/usr/bin/env bash
# The main job: a short planctl session over the default store (./.planning, or
# $PLANCTL_DB), walking the seed README's flow and then auditing the log.
# Usage: scripts/planctl-demo.sh [PATH-TO-PLANCTL]
set -euo pipefail
planctl="${1:-build/tools/planctl}"
run() { echo; echo "\$ planctl $*"; "$planctl" "$@"; }

id=$("$planctl" --json create --title "Authentication System Planning" \
       --description "Design OAuth2 implementation" --repo-path /projects/auth-service \
       --by agent:planning-assistant --metadata '{"priority":"high"}' \
       --content - <<<$'# Auth System\n\n## Requirements\n' | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -n 1)
echo "created session $id"
run update "$id" --summary "Added OAuth2 requirements" --by agent:planning-assistant \
    --content - <<<$'# Auth System\n\n## Requirements\n- OAuth2 login\n- Token refresh\n'
run pause "$id" --reason "Waiting for stakeholder feedback"
run resume "$id"
run history "$id"
run diff "$id" 1 2
run restore "$id" 1
run convert "$id" --project project-123 --work-item wi-1 --work-item wi-2
run archive "$id"
run show "$id"
run list
run stats
run log --session "$id"
run verify
run info
