"""The owner's dashboard: a Solara page to try launch policies on your own dealership.

``state`` holds the pure logic (controls from ``Params`` metadata, runs, headline cards,
replicates with a Wilson interval), ``charts`` draws matplotlib ``Figure`` objects,
``components`` and ``app`` build the page, and ``cli`` adds ``dealersim dashboard``.
"""
