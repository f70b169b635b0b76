def contribute(ctx):
    from tests.guide.test_app.models import Visit

    for number, village in enumerate(ctx.villages[:2], start=1):
        subject = f"Demo visit {number}"
        if not Visit.objects.filter(subject=subject).exists():
            Visit(subject=subject, location=village, json_ext={"phone": "+255700000000"}).save(user=ctx.admin)
    ctx.log("guide: 2 visits")
