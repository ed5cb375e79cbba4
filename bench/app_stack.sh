#!/usr/bin/env bash
# Why app.py is FastAPI + a plain page, not Gradio: install size, package count, import time and
# the internet addresses each front end loads. Two throwaway venvs under a temp folder, removed after.
#   bash bench/app_stack.sh [GRADIO_VERSION]
set -euo pipefail
gradio=${1:-6.31.0}
fastapi=$(grep -E '^(fastapi|uvicorn)==' "$(dirname "$0")/../requirements.txt" | tr '\n' ' ')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for stack in "gradio==$gradio" "$fastapi"; do
    venv="$tmp/$(echo "$stack" | cut -c1-6)"
    python3 -m uv venv -q --python 3.11 "$venv"
    python3 -m uv pip install -q --python "$venv/bin/python" $stack
    site="$venv/lib/python3.11/site-packages"
    modules=$(echo "$stack" | sed -E 's/==[^ ]*//g; s/ +/, /g; s/, $//')
    echo "$stack: $(du -sm "$site" | cut -f1) MB installed, $(python3 -m uv pip list --python "$venv/bin/python" 2>/dev/null | tail -n +3 | wc -l) packages"
    for i in 1 2 3; do /usr/bin/time -f "  import $modules: %e s, %M KB peak" "$venv/bin/python" -c "import $modules"; done 2>&1
    echo "  internet addresses in its bundled front end (fonts, scripts):"
    grep -rhoE "https://(fonts\.googleapis|fonts\.gstatic|cdn\.jsdelivr|unpkg|cdnjs)[a-z.]*/[^\"' )\`]{0,40}" "$site" \
        | sort | uniq -c | sort -rn | head -5 || echo "  none"
done
echo "app.py's page (web/static): $(grep -rhoE 'https?://[^\"'"'"' )]+' "$(dirname "$0")/../web/static" | wc -l) internet addresses"
