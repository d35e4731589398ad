"""Two-factor sign-in to the admin: the password, then a code from an authenticator app (TOTP)
or a backup code, on django-otp's devices.

The password step is the admin's own sign-in form (`chronicle.security`, which also throttles
both steps); `middleware` keeps an account that gave only its password away from every other
admin page; `views` has the code step, setting up an authenticator and new backup codes.
"""
