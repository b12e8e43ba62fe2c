"""BDD scenarios for jessy-core and jessy-api (pytest-bdd); see README.md."""
