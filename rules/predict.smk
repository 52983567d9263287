# Predict: test-split masks and probabilities at each image's original size.


rule predict_masks:
    input:
        model=rules.train_unet.output.model,
        cache=rules.preprocess.output.cache,
        meta=rules.preprocess.output.meta,
        code=modules("predict"),
    output:
        directory("results/{experiment}/pred"),
    params:
        predict=setting("predict"),
    threads: 2
    resources:
        gpu=1,
    log:
        "results/{experiment}/logs/predict_masks.log",
    benchmark:
        "results/{experiment}/benchmarks/predict_masks.tsv"
    script:
        "../scripts/predict_masks.py"
