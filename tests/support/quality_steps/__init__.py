"""Steps of the quality service's end-to-end flow (tests/e2e/test_quality_flow.py), one
module per capability, each driving the running services through their public interfaces."""
