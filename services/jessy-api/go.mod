module github.com/jessy-ci/jessy-api

go 1.26.0
