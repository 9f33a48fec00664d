module dsa.dev/sidecar/helper

go 1.24
