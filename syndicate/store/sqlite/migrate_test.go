package sqlite

import (
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations = %v", ms)
	}

	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	ok := fstest.MapFS{
		"m/0002_more.sql": file("B"),
		"m/0001_init.sql": file("A"),
		"m/README":        file("not a migration"),
	}
	ms, err = loadMigrations(ok, "m")
	if err != nil || len(ms) != 2 || ms[0].sql != "A" || ms[1].version != 2 {
		t.Errorf("loadMigrations = %+v, %v", ms, err)
	}

	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": file(""), "m/0003_c.sql": file("")},
		"duplicate": {"m/0001_a.sql": file(""), "m/0001_b.sql": file("")},
		"no number": {"m/init.sql": file("")},
		"zero":      {"m/0000_init.sql": file("")},
	} {
		if ms, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: loadMigrations = %+v, want an error", name, ms)
		}
	}
}
