#!/usr/bin/env bash
# make-test-pki.sh DIR: a throw-away PKI for tests, made with the openssl CLI (EC P-256, fast).
#   ca.pem/ca.key                  test CA
#   server.pem/server.key          for 127.0.0.1 and localhost, signed by the CA
#   wrong-name.pem/wrong-name.key  signed by the CA, but only for DNS:wrong.example
#   untrusted.pem/untrusted.key    self-signed for 127.0.0.1 and localhost (not from the CA)
# Keys are 0600. Existing files in DIR are overwritten.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"
umask 077 # keys are created 0600 from the start, not chmod-ed afterwards

ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc)

openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 \
    -subj "/CN=isyncsf test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# leaf NAME CN SANS: a key and a CA-signed server certificate with those subjectAltNames.
leaf() {
    local name=$1 cn=$2 sans=$3 ext
    ext=$(mktemp)
    printf '%s\n' "subjectAltName=$sans" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid,issuer" >"$ext"
    openssl req -new "${ec[@]}" -keyout "$dir/$name.key" -out "$dir/$name.csr" \
        -subj "/CN=$cn" 2>/dev/null
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile "$ext" \
        -out "$dir/$name.pem" 2>/dev/null
    rm -f "$ext" "$dir/$name.csr"
}

leaf server 127.0.0.1 "IP:127.0.0.1,DNS:localhost"
leaf wrong-name wrong.example "DNS:wrong.example"

openssl req -x509 "${ec[@]}" -keyout "$dir/untrusted.key" -out "$dir/untrusted.pem" -days 825 \
    -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null

chmod 0600 "$dir"/*.key
chmod 0644 "$dir"/*.pem
