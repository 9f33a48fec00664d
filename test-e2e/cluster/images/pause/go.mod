module dsa.local/test-e2e/cluster/images/pause

go 1.22
