#!/usr/bin/env bash
# Creates the test cluster's PKI and kubeconfigs under $DSA_RUN/pki (one CA for everything;
# EC P-256 keys because they are generated instantly). Skips if already made for this node IP.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NODE_IP=$(node_ip)
P=$DSA_RUN/pki
mkdir -p "$P"
if [ -f "$P/.done" ] && [ "$(cat "$P/.done")" = "$NODE_IP" ]; then exit 0; fi
cd "$P"
umask 077

key() { openssl ecparam -genkey -name prime256v1 -noout -out "$1.key" 2>/dev/null; }

key ca
openssl req -x509 -new -key ca.key -subj "/CN=dsa-test-ca" -days 3650 -out ca.crt \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"

# cert NAME SUBJECT USAGE [SANs]
cert() {
  local name=$1 subj=$2 eku=$3 sans=${4:-}
  key "$name"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$SERVICE_VIP"
cert admin "/O=system:masters/CN=dsa-admin" clientAuth
cert kcm "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
cert kubelet-serving "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP,IP:127.0.0.1"
# The apiserver's client identity towards the kubelet (exec/logs/port-forward); bound to
# system:kubelet-api-admin by cluster-up.sh.
cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" clientAuth
openssl ecparam -genkey -name prime256v1 -noout -out sa.key 2>/dev/null
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null

# kubeconfig NAME CERT SERVER
kubeconfig() {
  cat > "$DSA_RUN/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: dsa
  cluster:
    server: $3
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$2.crt")
    client-key-data: $(base64 -w0 "$2.key")
contexts:
- name: dsa
  context: {cluster: dsa, user: $2}
current-context: dsa
KC
}
LOCAL=https://127.0.0.1:$APISERVER_PORT
kubeconfig admin admin "https://$NODE_IP:$APISERVER_PORT"
kubeconfig kcm kcm "$LOCAL"
kubeconfig scheduler scheduler "$LOCAL"
kubeconfig kube-proxy kube-proxy "$LOCAL"
kubeconfig kubelet kubelet "https://$NODE_IP:$APISERVER_PORT"
# Test processes may run as another user: make the admin kubeconfig and CA world-readable.
chmod 0644 "$DSA_RUN/admin.kubeconfig" ca.crt
echo "$NODE_IP" > .done
