"""``python -m services.gateway``: run the gateway process."""

from services.gateway.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
