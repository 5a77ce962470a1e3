"""``python -m services.referral``: run the referral service process."""

from services.referral.bootstrap import build

if __name__ == "__main__":
    build().run()
