#!/usr/bin/env bash
# Create an environment's encrypted vault with freshly generated secrets.
#   scripts/new-vault.sh ENV        (ENV: a directory under inventories/)
# Asks for the new vault password (vault id ENV). Refuses to overwrite.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV=${1:?usage: new-vault.sh ENV}
[ -d "inventories/$ENV" ] || { echo "no inventories/$ENV" >&2; exit 1; }
GROUP_DIR=$(dirname "$(ls inventories/"$ENV"/group_vars/*/vault.yml.example | head -n1)")
VAULT="$GROUP_DIR/vault.yml"
if [ -e "$VAULT" ]; then
  echo "$VAULT exists; change it with: ansible-vault edit --vault-id $ENV@prompt $VAULT" >&2
  exit 1
fi
umask 077
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT
cat >"$TMP" <<EOT
---
vault_app_secret_key: "$(openssl rand -base64 48 | tr -d '\n')"
vault_app_db_password: "$(openssl rand -hex 24)"
vault_pgbackrest_cipher_pass: "$(openssl rand -base64 36 | tr -d '\n')"
vault_postgres_replication_password: "$(openssl rand -hex 24)"
EOT
.venv/bin/ansible-vault encrypt --vault-id "$ENV@prompt" --output "$VAULT" "$TMP"
echo "created $VAULT (encrypted, vault id $ENV). Edit with: ansible-vault edit --vault-id $ENV@prompt $VAULT"
