package org.nd4j.nativeblas;

import java.lang.reflect.Method;

/**
 * Compatibility shim that lets DL4J 1.0.0-M2.1 switch on its oneDNN layer helpers.
 *
 * <p>{@code BaseMKLDNNHelper.mklDnnEnabled()} in M2.1 looks up the pre-M1 class
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment} and its {@code isUseMKLDNN()} by reflection. That class moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment} (method {@code isUseONEDNN()}), so the lookup
 * fails and every convolution and pooling layer silently falls back to im2col + gemm (3.5x slower on CPU). This class
 * restores the old name and delegates to the new one by reflection, so it also compiles and loads under the CUDA
 * backend (where it simply reports {@code false}).
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The old-name environment: just enough API for DL4J's reflective lookups. */
    public static final class Environment {
        private static final String CURRENT = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        /** Whether the native CPU backend was built with oneDNN and has it switched on. */
        public boolean isUseMKLDNN() {
            Object env = current();
            return env != null && (Boolean) invoke(env, "isUseONEDNN");
        }

        /** Switches oneDNN use on or off in the native CPU backend (no-op on other backends). */
        public void setUseMKLDNN(boolean use) {
            Object env = current();
            if (env != null) {
                invoke(env, "setUseONEDNN", use);
            }
        }

        public boolean helpersAllowed() {
            Object env = current();
            return env != null && (Boolean) invoke(env, "helpersAllowed");
        }

        public void allowHelpers(boolean allow) {
            Object env = current();
            if (env != null) {
                invoke(env, "allowHelpers", allow);
            }
        }

        private static Object current() {
            try {
                Class<?> c = Class.forName(CURRENT);
                return c.getMethod("getInstance").invoke(null);
            } catch (ClassNotFoundException e) {
                return null; // not the CPU backend
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("Cannot reach " + CURRENT, e);
            }
        }

        private static Object invoke(Object env, String name, Object... args) {
            try {
                Class<?>[] types = new Class<?>[args.length];
                for (int i = 0; i < args.length; i++) {
                    types[i] = args[i] instanceof Boolean ? boolean.class : args[i].getClass();
                }
                Method m = env.getClass().getMethod(name, types);
                return m.invoke(env, args);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("Cannot call " + CURRENT + "#" + name, e);
            }
        }
    }
}
