"""``python -m services.referral``: run the referral service process."""

from services.referral.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
