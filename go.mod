module github.com/cairn-backup/cairn

go 1.26.8
