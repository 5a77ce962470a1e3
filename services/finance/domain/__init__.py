"""The finance domain, pure: accounts, journal entries, periods, policy, bundle arithmetic,
posting rules, settlement netting and performance-pay allocation (no database, no Kafka)."""
