# Predict: masks and probabilities of a split (test; val for CRF tuning) at original size.


rule predict_masks:
    input:
        models=split_models,
        cache=rules.preprocess.output.cache,
        meta=rules.preprocess.output.meta,
        # its images' paths: a GeoTIFF scene's mask carries its georeferencing (.png.aux.xml)
        manifest=rules.download_dataset.output[0],
        code=modules("infer.predict"),
    output:
        directory(f"{EXP}/pred/{{split}}"),
    params:
        predict=predict_params,
    threads: 2
    resources:
        gpu=1,
    log:
        f"{EXP}/logs/predict_masks_{{split}}.log",
    benchmark:
        f"{EXP}/benchmarks/predict_masks_{{split}}.tsv"
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/predict_masks.py"


rule predict_folder:
    # Masks for a folder of new images: put them in resources/predict/<name>/, then ask for
    # results/<dataset>/<experiment>/predict/<name>.
    input:
        models=trained_models,
        # the images, not their folder: a folder's mtime moves with any file made in it (an
        # interrupted copy's hidden scratch, a .DS_Store), which reran it on the same images
        images=folder_images,
        code=modules("infer.predict_folder", "infer.predict"),
    output:
        directory(f"{EXP}/predict/{{folder}}"),
    params:
        folder="resources/predict/{folder}",
        predict=predict_folder_params,
        roi=lambda wildcards: experiment_section(config, "predict", wildcards.experiment)["roi"],
        recursive=folder_recursive,
        extensions=image_extensions(),
        images=folder_fingerprint,
    threads: 2
    resources:
        gpu=1,
    log:
        f"{EXP}/logs/predict_folder_{{folder}}.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/predict_folder.py"
