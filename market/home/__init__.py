"""Where each person lands after signing in: the staff dashboard and the
enterprise's home. They gather figures from every area, so they live above
all of them."""
