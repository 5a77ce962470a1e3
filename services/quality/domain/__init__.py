"""The review centre's pure rules: what the county's review rules say of a prescription."""
