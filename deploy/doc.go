// Package deploy tests the deployment files at the repository root — docker-compose.yml, Dockerfile,
// .env.example and the Grafana provisioning — where no Docker engine runs: the compose file is loaded and
// validated by the compose specification's own Go loader, and the binary the Dockerfile ships is built
// with the same make target and checked to be static.
package deploy
