module github.com/crmbackup/crmbackup

go 1.26.8

require (
	github.com/go-json-experiment/json v1.27.2 // indirect
	golang.org/x/time v0.16.0 // indirect
)
