"""``dialback nodes``: nodes, shards and leases on one PostgreSQL (issue 17)."""
