# Train: one UNet per experiment (or one per cross-validation fold), on the GPU if any.


rule fetch_encoder_weights:
    # Pretrained encoder weights (model.arch smp) into the Hugging Face cache, before training
    # and where Snakemake runs (a local rule): cluster compute nodes often have no network.
    output:
        "resources/encoders/{encoder}/{weights}.json",
    log:
        "resources/encoders/logs/{encoder}_{weights}.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/fetch_encoder_weights.py"


rule train_unet:
    input:
        cache=rules.preprocess.output.cache,
        meta=rules.preprocess.output.meta,
        init=init_model,
        weights=encoder_weights,
        code=modules("train.train"),
    output:
        model=f"{EXP}/model.pt",
        history=f"{EXP}/history.csv",
    params:
        model=setting("model"),
        train=setting("train"),
        speed=speed("train"),  # num_workers, deterministic on the CPU: the same weights
        names=masks_checked(),  # masks.names, written into model.pt: no retraining for them
        # Not an output: a killed job's last checkpoint must survive to be resumed.
        checkpoints=f"{EXP}/checkpoints",
        fold=None,
    threads: train_threads
    resources:
        gpu=1,
    log:
        f"{EXP}/logs/train_unet.log",
    benchmark:
        f"{EXP}/benchmarks/train_unet.tsv"
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/train_unet.py"


use rule train_unet as train_fold with:
    # Cross-validation (split.folds >= 2): model {fold} validates on fold {fold}, trains on the rest.
    output:
        model=f"{EXP}/folds/{{fold}}/model.pt",
        history=f"{EXP}/folds/{{fold}}/history.csv",
    params:
        model=setting("model"),
        train=setting("train"),
        speed=speed("train"),
        names=masks_checked(),
        checkpoints=f"{EXP}/folds/{{fold}}/checkpoints",
        fold=lambda wildcards: int(wildcards.fold),
    log:
        f"{EXP}/logs/train_fold_{{fold}}.log",
    benchmark:
        f"{EXP}/benchmarks/train_fold_{{fold}}.tsv"
