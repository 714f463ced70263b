"""Recommend activations, initializers and input scaling for a Keras model.

The advisor is being built on top of :mod:`keras_act`; see the project's issues for its API.
"""
