# Keeps a self-signed pair for the domains (run by tasks/selfsigned.yml as
# `sh -s -- DIR DAYS RENEW_DAYS DOMAIN...`, this script on stdin). Prints
# "current" when the pair is in place: the key there (0600) and the
# certificate its own, naming exactly the domains and valid for RENEW_DAYS
# more; else makes what is missing or wrong and prints "made" (a new
# certificate) or "fixed" (modes only).
set -eu
dir=$1 days=$2 renew=$3
shift 3
key="$dir/privkey.pem" cert="$dir/fullchain.pem"
names=$(printf 'DNS:%s, ' "$@")
names=${names%, }

umask 077
if [ ! -d "$dir" ]; then mkdir -p "$dir"; fi
fixed=
if [ "$(stat -c %a "$dir")" != 700 ]; then chmod 0700 "$dir"; fixed=1; fi
if [ -s "$key" ] && [ "$(stat -c %a "$key")" != 600 ]; then chmod 0600 "$key"; fixed=1; fi

if [ -s "$key" ] && [ -s "$cert" ] &&
   [ "$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$key" -pubout)" ] &&
   [ "$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | sed -n '2s/^ *//p')" = "$names" ] &&
   openssl x509 -in "$cert" -noout -checkend $((renew * 86400)) >/dev/null; then
    if [ -n "$fixed" ]; then echo fixed; else echo current; fi
    exit 0
fi

if [ ! -s "$key" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key.new"
    mv -f "$key.new" "$key"
fi
openssl req -x509 -new -key "$key" -days "$days" -subj "/CN=$1" \
    -addext "subjectAltName=$(printf '%s' "$names" | sed 's/, /,/g')" -out "$cert.new"
chmod 0644 "$cert.new"
mv -f "$cert.new" "$cert"
echo made
