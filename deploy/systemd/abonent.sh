#!/bin/sh
# abonent's command line with the install's settings, as its user, the way the units run:
#   install -m 755 deploy/systemd/abonent.sh /usr/local/bin/abonent
#   abonent createsuperuser
#   abonent billing run --supplier stolgaz --period 2026-10
if [ -t 0 ]; then terminal=--pty; else terminal=--pipe; fi
exec systemd-run --quiet --collect --wait "$terminal" --service-type=exec \
    --uid=abonent --gid=abonent --working-directory=/srv/abonent/app \
    --property=EnvironmentFile=/etc/abonent/abonent.env --setenv=PYTHONUNBUFFERED=1 \
    /srv/abonent/.venv/bin/abonent "$@"
